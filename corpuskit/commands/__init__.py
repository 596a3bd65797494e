"""Commands of the stages that are one module rather than a package (ingest, inspecting, exporting) and
of the installation check. Stage packages keep theirs in ``<stage>/commands.py``; the table of every
command is :data:`corpuskit.cli.COMMANDS`."""
