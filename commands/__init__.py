"""The `vac` command line: typer sub-apps that parse options, call the core in `vac/`,
render the result and map errors to exit codes."""
