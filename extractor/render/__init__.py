"""A review out: text (JSON and a terminal summary), html (a self-contained page), fhir (Da Vinci DTR)."""
