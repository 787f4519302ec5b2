def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "notification_kind(kind): this journey shows notifications of `kind` delivered in-app and by e-mail "
        "(tests/notifications/test_notification_kinds_meta.py requires one per kind)",
    )
