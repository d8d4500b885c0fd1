"""Outbound URL policy: http(s) only; metadata/link-local never; private/loopback only when allowed."""

from __future__ import annotations

import pytest

from outbound.policy import OutboundTargetError, check_address, check_url


@pytest.mark.parametrize("url", [
    "https://agent.example.com/triage", "http://hooks.slack.com/services/x", "https://93.184.216.34:8443/x",
])
def test_public_http_targets_are_allowed_everywhere(url):
    assert check_url(url, allow_private=False) == url


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/", "http://localhost/agent", "http://10.0.0.5/", "http://192.168.1.2/",
    "http://172.16.0.1/", "http://[::1]:8080/", "http://api.localhost/", "http://100.64.0.1/",
])
def test_private_and_loopback_targets_need_the_setting(url):
    with pytest.raises(OutboundTargetError, match="ALLOW_PRIVATE_TARGETS"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True) == url


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data", "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/", "http://169.254.10.10/",
    "http://100.100.100.200/latest/meta-data", "http://192.0.0.192/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::1]/", "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",
])
def test_metadata_and_link_local_targets_are_refused_even_when_private_is_allowed(url):
    with pytest.raises(OutboundTargetError, match="never allowed"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url,message", [
    ("ftp://example.com/", "http and https"), ("file:///etc/passwd", "http and https"),
    ("https://", "no host"), ("https://user:pw@example.com/", "credentials"),
    ("http://example.com:99999/", "valid URL"),
])
def test_malformed_urls_are_refused_with_a_reason(url, message):
    with pytest.raises(OutboundTargetError, match=message):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("address,allowed", [("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False),
                                             ("::1", False), ("2001:4860:4860::8888", True)])
def test_resolved_addresses_are_checked_at_delivery(address, allowed):
    if allowed:
        check_address(address, allow_private=False)
    else:
        with pytest.raises(OutboundTargetError):
            check_address(address, allow_private=False)
    check_address(address, allow_private=True)
