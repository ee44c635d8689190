"""The command line: main.py builds the parser and runs a command; each command is a module
of its own (its parser, epilog and handler), delegating the work to the package that owns it."""
