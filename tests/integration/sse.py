"""A small Server-Sent Events reader for tests: what a browser's fetch() + reader does."""
import json


def read_events(resp):
    """Every event of a streamed `requests` response as dicts (event, id, data parsed as
    JSON), until the server ends the body. Comment lines (": ping") are skipped."""
    return list(iter_events(resp))


def iter_events(resp):
    event = {}
    for raw in resp.iter_lines(chunk_size=4096):
        line = raw.decode("utf-8")
        if not line:
            if "event" in event:
                if "data" in event:
                    event["data"] = json.loads(event["data"])
                yield event
            event = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            event[key] = value
