def validate(instance) -> None:
    """Field validation before a service saves a row, as 400s naming the fields.

    Uniqueness and constraints are left to the database: Django's checks would query through the
    fail-closed, tenant-scoped default manager (and race anyway); a violation surfaces as a 409.
    """
    instance.full_clean(validate_unique=False, validate_constraints=False)
