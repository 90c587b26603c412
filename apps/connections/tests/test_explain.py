"""Provider errors in plain words (apps/connections/explain.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.connections import explain
from apps.connections.clients import AuthError, PermanentError, TransientError
from apps.connections.evotor_link import BAD_STORED_CREDENTIAL, NOT_YET_SENT
from apps.connections.services import REVOKED_BY_UNINSTALL
from apps.connections.vk_link import CommunityProblem

# Every code of docs/vk.md#errors a merchant can meet.
VK_CODES = [1, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 17, 18, 27, 29, 100, 121, 129, 203, 205,
            *range(1400, 1411), 1431, 1432, 1433, 1434, 1435, 1438, 1518, 1525, 1526]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("code", VK_CODES)
def test_every_vk_code_has_its_own_explanation(code):
    found = explain.vk_error(code)
    assert found.title and found.advice
    assert found.title != explain.vk_error(999_999).title
    assert found.code == f"VK {code}"


def test_unknown_vk_code_gets_a_general_explanation_with_the_code_in_small_print():
    generic = explain.vk_error(999_999)
    assert generic.title == "VK refused the request."
    assert generic.code == "VK 999999"


def test_no_vk_code_says_the_answer_was_unexpected():
    assert "did not expect" in explain.vk_error(None).title


def test_token_and_market_codes_tell_what_to_do():
    assert "connect VK again" in explain.vk_error(5).advice
    assert "Sections → Products" in explain.vk_error(1438).advice
    assert "web addresses" in explain.vk_error(1408).advice


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 429, 500, 502, 503, "timeout",
                                    "network", None])
def test_every_evotor_status_has_an_explanation(status):
    found = explain.evotor_error(status)
    assert found.title and found.advice
    assert found.title != "Evotor refused the request."


def test_evotor_server_errors_share_one_explanation_with_the_status_in_small_print():
    assert explain.evotor_error(502).title == explain.evotor_error(500).title
    assert explain.evotor_error(502).code == "Evotor HTTP 502"
    assert explain.evotor_error("401").code == "Evotor HTTP 401"


def test_unknown_evotor_status_is_general():
    assert explain.evotor_error(418).title == "Evotor refused the request."


@pytest.mark.parametrize(("service", "detail", "words"), [
    ("vk", "vk market.get: User authorization failed: invalid access_token (4). (code 5)",
     "expired or was revoked"),
    ("vk", "vk groups.getById: Market is disabled (code 1525)", "goods section"),
    ("vk", CommunityProblem.DETAILS[CommunityProblem.MARKET_OFF], "goods section"),
    ("vk", "The market (Товары) is switched off.", "goods section"),
    ("vk", CommunityProblem.DETAILS[CommunityProblem.NOT_MANAGER], "cannot manage goods"),
    ("vk", CommunityProblem.DETAILS[CommunityProblem.NOT_FOUND], "no longer exists"),
    ("vk", "vk_id /oauth2/auth: HTTP 401 (HTTP 401)", "expired or was revoked"),
    ("vk", "vk_id /oauth2/auth: invalid_grant: refresh token expired", "expired"),
    ("vk", "vk market.get: timed out (ReadTimeout)", "did not answer in time"),
    ("vk", "vk market.get: HTTP 502 (HTTP 502)", "temporarily unavailable"),
    ("evotor", REVOKED_BY_UNINSTALL, "app was removed"),
    ("evotor", NOT_YET_SENT, "has not sent"),
    ("evotor", BAD_STORED_CREDENTIAL, "can no longer be used"),
    ("evotor", "evotor GET /stores: Unauthorized (HTTP 401)", "no longer accepts"),
    ("evotor", "evotor GET /stores: Payment Required (HTTP 402)", "not paid for"),
    ("evotor", "evotor GET /stores: Bad Gateway (HTTP 502)", "temporarily unavailable"),
    ("evotor", "evotor GET /stores: connection failed", "could not reach"),
    ("evotor", "evotor GET /stores: timed out (ConnectTimeout)", "did not answer in time"),
    ("evotor", "no configured key has id 'ab12cd34'", "can no longer be used"),
])
def test_connection_problem_recognises_stored_texts(service, detail, words):
    assert words in explain.connection_problem(service, detail).title


@pytest.mark.parametrize("service", ["vk", "evotor"])
def test_connection_problem_falls_back_to_a_general_explanation(service):
    found = explain.connection_problem(service, "something nobody foresaw")
    assert found.title.endswith("refused the request.")
    assert "something nobody foresaw" not in found.title + found.advice


def test_from_exception_reads_the_client_errors():
    assert explain.from_exception(
        AuthError("User authorization failed", service="vk", code=5)
    ).code == "VK 5"
    assert "goods section" in explain.from_exception(
        PermanentError("Market not enabled", service="vk", code=1438)
    ).title
    assert "could not reach" in explain.from_exception(
        TransientError("connection failed", service="evotor", method="GET /stores")
    ).title


def test_texts_follow_the_active_language():
    with translation.override("ru"):
        russian = explain.vk_error(5).title
    assert isinstance(russian, str) and russian
    assert explain.vk_error(5).title.startswith("VK no longer accepts")
