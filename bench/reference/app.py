"""The reference POST /orders: the same API as order_service, written the way
the original Python design did it (FastAPI + uvicorn + confluent-kafka).

Only for comparison in bench/run.sh --reference; never part of the product.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 ORDERS_TOPIC=orders HTTP_PORT=8101 \
        python bench/reference/app.py

An order is answered 202 only once the broker acknowledged it (acks=all,
idempotent producer): the handler awaits an asyncio future that the delivery
callback resolves. Delivery callbacks run on the poll thread, which hands the
result back to the event loop with call_soon_threadsafe.
"""
import asyncio
import contextlib
import datetime
import json
import os
import re
import threading
import uuid
from typing import Optional

import uvicorn
from confluent_kafka import KafkaError, KafkaException, Producer
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
ORDERS_TOPIC = os.environ.get("ORDERS_TOPIC", "orders")
HTTP_PORT = int(os.environ.get("HTTP_PORT", "8101"))
DELIVERY_TIMEOUT_MS = int(os.environ.get("DELIVERY_TIMEOUT_MS", "10000"))
MAX_BODY_BYTES = 64 * 1024
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    order_id: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    user_id: str = Field(min_length=1, max_length=64)
    item: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=1, le=1_000_000)

    @field_validator("user_id", "item")
    @classmethod
    def no_control(cls, v):
        if CONTROL.search(v):
            raise ValueError("control characters are not allowed")
        return v


def error(status, code, message, field=None, headers=None):
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status, headers=headers)


class Publisher:
    """The producer and its poll thread."""

    def __init__(self):
        self.producer = Producer({
            "bootstrap.servers": BOOTSTRAP,
            "acks": "all",
            "enable.idempotence": True,
            "message.timeout.ms": DELIVERY_TIMEOUT_MS,
        })
        self.running = True
        self.thread = threading.Thread(target=self._poll, name="kafka-poll", daemon=True)
        self.thread.start()

    def _poll(self):
        # Delivery callbacks run here, on this thread.
        while self.running:
            self.producer.poll(0.05)

    def publish(self, loop, key, value):
        future = loop.create_future()

        def on_delivery(err, msg):
            # Poll thread: hand the outcome to the event loop.
            if err is not None:
                loop.call_soon_threadsafe(_settle, future, err, None)
            else:
                loop.call_soon_threadsafe(_settle, future, None,
                                          (msg.partition(), msg.offset()))

        self.producer.produce(ORDERS_TOPIC, key=key, value=value,
                              headers=[("content-type", b"application/json")],
                              on_delivery=on_delivery)
        return future

    def close(self):
        self.running = False
        self.thread.join()
        self.producer.flush(10)


def _settle(future, err, result):
    if future.done():
        return
    if err is not None:
        future.set_exception(KafkaException(err))
    else:
        future.set_result(result)


publisher = None


@contextlib.asynccontextmanager
async def lifespan(app):
    global publisher
    publisher = Publisher()
    yield
    publisher.close()


app = FastAPI(lifespan=lifespan)


@app.exception_handler(RequestValidationError)
async def on_invalid(request, exc):
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    return error(400, "invalid", first.get("msg", "invalid request"),
                 loc[0] if loc else None)


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.post("/orders", status_code=202)
async def create_order(request: Request):
    if "application/json" not in request.headers.get("content-type", ""):
        return error(415, "unsupported_media_type", "Content-Type must be application/json")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return error(413, "too_large", "body over 64 KiB")
    try:
        raw = json.loads(body)
    except ValueError:
        return error(400, "malformed_json", "body is not JSON")
    if not isinstance(raw, dict):
        return error(400, "invalid", "body must be a JSON object")
    try:
        order = Order.model_validate(raw)
    except Exception as e:  # pydantic.ValidationError
        errs = e.errors()
        field = str(errs[0]["loc"][0]) if errs and errs[0]["loc"] else None
        return error(400, "invalid", errs[0]["msg"] if errs else str(e), field)

    record = order.model_dump()
    record["order_id"] = order.order_id or str(uuid.uuid4())
    now = datetime.datetime.now(datetime.timezone.utc)
    record["created_at"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    loop = asyncio.get_running_loop()
    try:
        future = publisher.publish(loop, record["order_id"], json.dumps(record).encode())
    except BufferError:
        return error(503, "queue_full", "local queue full", headers={"Retry-After": "1"})
    try:
        partition, offset = await future
    except KafkaException as e:
        if e.args[0].code() == KafkaError._MSG_TIMED_OUT:
            return error(504, "delivery_timeout", "delivery timed out: outcome unknown")
        return error(503, "broker_unavailable", str(e.args[0]), headers={"Retry-After": "1"})
    return JSONResponse({"order_id": record["order_id"], "status": "accepted",
                         "topic": ORDERS_TOPIC, "partition": partition, "offset": offset},
                        status_code=202, headers={"Location": f"/orders/{record['order_id']}"})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=HTTP_PORT, log_level="warning",
                access_log=False)
