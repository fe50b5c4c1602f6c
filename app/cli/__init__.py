"""The `bastion` command line. Commands parse arguments and call library functions."""
