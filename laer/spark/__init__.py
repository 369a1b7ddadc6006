"""Running the same dbt project on Spark: a session configured like dbt-spark's, and a
loader that fills Spark's ``raw`` database from the landing files with Spark's readers."""
