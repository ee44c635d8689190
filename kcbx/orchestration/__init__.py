"""How the term pipeline runs under Airflow: when (schedule), one run per term (lock),
whether anything changed (changes), and what happens when it fails (failures)."""
