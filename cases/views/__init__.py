"""The caseworkers' web app: thin views that read through cases/access.py and write through
cases/actions.py."""
