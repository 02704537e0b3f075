"""Importing this module fails: the wsgi unit tests check that the error names it."""
import module_that_does_not_exist_anywhere  # noqa: F401
