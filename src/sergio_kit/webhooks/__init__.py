"""Webhook signatures (``X-Sergio-Signature``) and the HTTPS receiver that collects deliveries on loopback."""
