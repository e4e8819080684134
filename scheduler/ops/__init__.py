"""Operations on a dataset or a plan during the week (ARCHITECTURE.md `ops/`): `additem` adds a
new recorded or synthesised item to a dataset."""
