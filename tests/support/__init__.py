"""Helpers the tests share: plain functions and constants, imported from here.

``conftest.py`` files hold fixtures only; a test module imports helpers from this
package, never from a conftest or from another test module.
"""
