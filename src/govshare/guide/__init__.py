"""Informatization service guide (服务指引目录, Art 20-27): the public services built on government data."""
