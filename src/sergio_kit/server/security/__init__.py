"""Who is calling the reference server: JWTs, password and API-key hashes, principals."""
