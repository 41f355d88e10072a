def add_store_parsers(sub) -> None:
    pass
