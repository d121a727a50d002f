"""HL7 FHIR R4: the mapping of the pathway's records to resources, their validation, search
and the Bulk Data exchange. The mapping is pure (domain objects in, JSON-ready dicts out)."""
