"""Học bạ số readiness analytics."""
