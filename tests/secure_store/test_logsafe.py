from secure_store.logsafe import failure_summary


def test_summary_has_type_and_location_but_not_the_message() -> None:
    try:
        raise RuntimeError("举报人张三的电话13900000000")
    except RuntimeError as exc:
        text = failure_summary(exc)
    assert text.startswith("RuntimeError at test_logsafe.py:")
    assert "张三" not in text and "139" not in text
