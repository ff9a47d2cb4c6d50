"""Alerts: rules over stored events, with cool-down and de-duplication, delivered to webhooks,
MQTT brokers and e-mail; every fired alert is recorded.

Kept free of imports so that `vigil.config` can import the settings models in
`vigil.alerts.config` without a cycle.
"""
