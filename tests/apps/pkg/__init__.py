"""A package whose wsgi module defines `application`, as Django projects do."""
