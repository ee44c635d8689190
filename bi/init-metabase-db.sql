-- Metabase's application database, next to Airflow's in the `postgres` service.
create user metabase with password 'metabase';
create database metabase owner metabase;
