"""Interoperability of the public catalog: DCAT-AP 3 export and a CKAN-compatible Action API."""
