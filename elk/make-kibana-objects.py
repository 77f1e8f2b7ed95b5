#!/usr/bin/env python3
"""Write elk/kibana-objects.ndjson, the Kibana saved objects of the stack.

The ndjson file is what Kibana imports (elk/setup.sh); this script is its
source, because Kibana stores nested JSON as strings (visState,
searchSourceJSON, panelsJSON) that are unreadable to edit by hand. Run it
after a change and commit both:  python3 elk/make-kibana-objects.py
"""
import json
import os

DATA_VIEW = "order-notifications"
SEARCH = "order-notifications-latest"
SEARCH_BY_ORDER = "order-notifications-by-order-id"
VIS_STATUS = "order-notifications-status-over-time"
VIS_REASONS = "order-notifications-rejection-reasons"
DASHBOARD = "order-notifications-dashboard"

COLUMNS = ["order.id", "order.status", "order.reason", "order.item",
           "order.quantity", "user.id", "trace.id", "event.id"]


def source(query="", filters=None):
    """searchSourceJSON that points at the data view through a reference."""
    return json.dumps({
        "query": {"query": query, "language": "kuery"},
        "filter": filters or [],
        "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
    })


def data_view_ref():
    return [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index",
             "type": "index-pattern", "id": DATA_VIEW}]


def saved_search(obj_id, title, description, query):
    return {
        "id": obj_id, "type": "search",
        "attributes": {
            "title": title, "description": description,
            "columns": COLUMNS, "sort": [["@timestamp", "desc"]],
            "kibanaSavedObjectMeta": {"searchSourceJSON": source(query)},
        },
        "references": data_view_ref(),
    }


def visualization(obj_id, title, vis_type, params, aggs, query=""):
    vis_state = {"title": title, "type": vis_type, "params": params, "aggs": aggs}
    return {
        "id": obj_id, "type": "visualization",
        "attributes": {
            "title": title, "description": "", "uiStateJSON": "{}",
            "visState": json.dumps(vis_state),
            "kibanaSavedObjectMeta": {"searchSourceJSON": source(query)},
        },
        "references": data_view_ref(),
    }


def objects():
    yield {
        "id": DATA_VIEW, "type": "index-pattern",
        "attributes": {"title": "order-notifications*", "name": "Order notifications",
                       "timeFieldName": "@timestamp"},
        "references": [],
    }
    yield saved_search(SEARCH, "Order notifications",
                       "Every notification line, newest first.", "")
    yield saved_search(
        SEARCH_BY_ORDER, "Order notifications: one order",
        "Edit the query to the order you look for: order.id : \"12345\"",
        'order.id : "12345"')
    yield visualization(
        VIS_STATUS, "Orders per status over time", "histogram",
        {"type": "histogram", "addLegend": True, "legendPosition": "right",
         "addTooltip": True, "times": [], "addTimeMarker": False},
        [{"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}},
         {"id": "2", "enabled": True, "type": "date_histogram", "schema": "segment",
          "params": {"field": "@timestamp", "interval": "auto", "min_doc_count": 1,
                     "extended_bounds": {}}},
         {"id": "3", "enabled": True, "type": "terms", "schema": "group",
          "params": {"field": "order.status", "size": 5, "order": "desc",
                     "orderBy": "1", "missingBucket": False, "otherBucket": False}}])
    yield visualization(
        VIS_REASONS, "Rejection reasons", "pie",
        {"type": "pie", "addTooltip": True, "addLegend": True,
         "legendPosition": "right", "isDonut": True},
        [{"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}},
         {"id": "2", "enabled": True, "type": "terms", "schema": "segment",
          "params": {"field": "order.reason", "size": 10, "order": "desc",
                     "orderBy": "1", "missingBucket": False, "otherBucket": True,
                     "otherBucketLabel": "Other"}}],
        query='order.status : "rejected"')
    panels = [
        (VIS_STATUS, "visualization", {"x": 0, "y": 0, "w": 32, "h": 15}),
        (VIS_REASONS, "visualization", {"x": 32, "y": 0, "w": 16, "h": 15}),
        (SEARCH, "search", {"x": 0, "y": 15, "w": 48, "h": 20}),
    ]
    panels_json, refs = [], []
    for i, (obj_id, obj_type, grid) in enumerate(panels):
        index = str(i + 1)
        panels_json.append({"panelIndex": index, "gridData": dict(grid, i=index),
                            "embeddableConfig": {"enhancements": {}},
                            "panelRefName": f"panel_{i}"})
        refs.append({"name": f"panel_{i}", "type": obj_type, "id": obj_id})
    yield {
        "id": DASHBOARD, "type": "dashboard",
        "attributes": {
            "title": "Order pipeline: notifications",
            "description": "Statuses over time, rejection reasons, latest notifications. "
                           "Find one order by typing order.id : \"12345\" in the query bar.",
            "panelsJSON": json.dumps(panels_json),
            "optionsJSON": json.dumps({"useMargins": True, "syncColors": False,
                                       "hidePanelTitles": False}),
            "timeRestore": True, "timeFrom": "now-1h", "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 10000},
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(
                {"query": {"query": "", "language": "kuery"}, "filter": []})},
        },
        "references": refs,
    }


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kibana-objects.ndjson")
    with open(path, "w") as f:
        for obj in objects():
            f.write(json.dumps(obj, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
