"""Transform: the dbt build on the warehouse (dbt_project/), streaming its progress."""
