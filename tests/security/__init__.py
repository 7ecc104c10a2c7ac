"""Security tests (issue 6, item 8): prompt injection through the whole loop, approvals."""
