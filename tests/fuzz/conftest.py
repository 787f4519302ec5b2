def pytest_terminal_summary(terminalreporter):
    """The figure the issue asks for: how many generated requests the fuzzer sent, per role."""
    from tests.fuzz.test_api_fuzz import CASES

    if CASES:
        per_role = ", ".join(f"{role} {count}" for role, count in sorted(CASES.items()))
        terminalreporter.write_line(f"API fuzzing: {sum(CASES.values())} cases ({per_role})")
