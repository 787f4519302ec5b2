from django.test import Client

from config.celery import app as celery_app


def test_healthz_answers_while_the_process_lives(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_real_database_and_broker(db):
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "broker": True}


def test_readyz_is_503_when_the_broker_is_unreachable(db, unused_tcp_port, monkeypatch):
    unreachable = f"redis://127.0.0.1:{unused_tcp_port}/0"
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)
    monkeypatch.setitem(celery_app.conf, "broker_url", unreachable)
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["checks"]) == ("not ready", {"database": True, "broker": False})


def test_unknown_api_paths_answer_json_404(db):
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
