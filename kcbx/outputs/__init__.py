"""Everything a person reads: the term report and the Excel workbooks, built from marts."""
