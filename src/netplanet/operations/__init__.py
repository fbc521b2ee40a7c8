"""Operations on a planet that the command line and the admin area share: adding, editing,
importing and exporting sources, and polling one source now."""
