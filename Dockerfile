# The KCBX image: Airflow 3.3 with the kcbx package, dbt project and DAGs. Used by every
# Airflow service in docker-compose.yml.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN mkdir -p /opt/kcbx /opt/kcbx/landing /opt/kcbx/reports && chown -R airflow:0 /opt/kcbx
USER airflow

WORKDIR /opt/kcbx
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md ./
COPY --chown=airflow:0 kcbx ./kcbx
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 sql ./sql
COPY --chown=airflow:0 bi ./bi

ENV KCBX_HOME=/opt/kcbx/.kcbx \
    KCBX_REPORTS_DIR=/opt/kcbx/reports \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/kcbx/dags
