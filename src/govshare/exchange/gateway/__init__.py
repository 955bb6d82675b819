"""The exchange gateway (Art 14-17): purpose-bound, field- and region-scoped delivery, every call recorded."""
