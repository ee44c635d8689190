"""A region hub above several counties (SPEC §7): its configuration (config.py), what a
county publishes (publish.py), the hub's database and refresh (hub.py), the region's run
(run.py) and what the region reads (outputs.py). Nothing about a child leaves a county
except aggregates and, with a region key, matching tokens."""
