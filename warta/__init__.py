"""The ``warta`` command, the operator commands and the local runner.

They start and drive the services, so they sit above them: services and shared/ never import them.
"""
