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

# The Kibana version whose export format the objects follow, and the
# migration versions they are at: Kibana then runs only the migrations that
# came after (without them it would run every migration since 7.0 on
# objects already in the 8.x format).
KIBANA_FORMAT = "8.15.0"
CORE_MIGRATION = "8.8.0"
TYPE_MIGRATION = {"index-pattern": "8.0.0", "search": "8.0.0",
                  "visualization": "8.5.0", "dashboard": "8.7.0"}

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
         "addTooltip": True, "times": [], "addTimeMarker": False,
         "grid": {"categoryLines": False},
         "categoryAxes": [{"id": "CategoryAxis-1", "type": "category", "position": "bottom",
                           "show": True, "scale": {"type": "linear"},
                           "labels": {"show": True, "filter": True, "truncate": 100},
                           "title": {}}],
         "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value",
                        "position": "left", "show": True,
                        "scale": {"type": "linear", "mode": "normal"},
                        "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                        "title": {"text": "Notifications"}}],
         "seriesParams": [{"show": True, "type": "histogram", "mode": "stacked",
                           "data": {"label": "Count", "id": "1"}, "valueAxis": "ValueAxis-1",
                           "drawLinesBetweenPoints": True, "lineWidth": 2,
                           "showCircles": True}],
         "labels": {"show": False}},
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
         "legendPosition": "right", "isDonut": True,
         "labels": {"show": False, "values": True, "last_level": True, "truncate": 100}},
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
        ref_name = f"panel_{index}"
        panels_json.append({"version": KIBANA_FORMAT, "type": obj_type, "panelIndex": index,
                            "gridData": dict(grid, i=index),
                            "embeddableConfig": {"enhancements": {}},
                            "panelRefName": ref_name})
        # 8.x resolves a panel's reference as "<panelIndex>:<panelRefName>",
        # earlier releases as "<panelRefName>": both are given.
        refs.append({"name": f"{index}:{ref_name}", "type": obj_type, "id": obj_id})
        refs.append({"name": ref_name, "type": obj_type, "id": obj_id})
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


def render():
    """The ndjson text: one object per line, at its migration versions."""
    lines = []
    for obj in objects():
        obj["coreMigrationVersion"] = CORE_MIGRATION
        obj["typeMigrationVersion"] = TYPE_MIGRATION[obj["type"]]
        lines.append(json.dumps(obj, sort_keys=True) + "\n")
    return "".join(lines)


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kibana-objects.ndjson")
    with open(path, "w") as f:
        f.write(render())


if __name__ == "__main__":
    main()
