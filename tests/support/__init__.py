"""Helpers shared by test modules (so that test modules never import each other)."""
