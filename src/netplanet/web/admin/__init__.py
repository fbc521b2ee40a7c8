"""The admin area (/admin/): area.py gathers its routes from the modules that own them.

Plain HTML forms (no JavaScript), never cached, behind the guard in guard.py; sessions, CSRF
and the login limiter live in web/auth.py.
"""
