"""The shared catalog: resource entries, versions, demands, Chinese search (Art 7-10, 20-27)."""
