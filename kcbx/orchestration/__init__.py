"""How the term pipeline runs under Airflow: one function per DAG task (tasks), when
(schedule), one run per term (term_lock), whether anything changed (changes), what happens
when it fails (failures), what each term's runs left (status); `kcbx run`'s in-process run
(in_process) and the services on this machine (services: Airflow's; bi: Superset; processes)."""
