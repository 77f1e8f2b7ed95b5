"""The pipeline under load, for the fault tests: its own topics, groups and
notification file on a broker, the three services, a steady load of POSTs,
and the accounting at the end (tests/pylib/accounting.py)."""
import os

import accounting
import pipeline

# ASan services on a shared 2-core machine: a modest, steady load.
RATE = int(os.environ.get("FAULTS_RATE", "200"))
# Orders that must be accepted before a fault and again after the recovery.
FLOWING = 100
# Every RETRY_EVERY-th POST is a client's retry of an earlier order: the
# accounting checks that it still has exactly one status.
RETRY_EVERY = 10


class Pipeline:
    def __init__(self, bootstrap, services):
        self.bootstrap = bootstrap
        self.start_service = services  # the conftest fixture: stops all at the end
        tag = pipeline.unique("faults")
        self.orders = tag + "-orders"
        self.notifications = tag + "-notifications"
        self.log_file = os.path.join(pipeline.state_dir("faults"), tag + ".jsonl")
        pipeline.create_topics(bootstrap, [self.orders, self.notifications], partitions=3)
        common = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ORDERS_TOPIC": self.orders,
                  "NOTIFICATIONS_TOPIC": self.notifications, "TOPIC_PARTITIONS": "3"}
        self.env = {
            "order_service": dict(common),
            # The same TRANSACTIONAL_ID after a restart: that is what fences
            # the killed instance's open transaction.
            "processing_service": dict(common, KAFKA_GROUP_ID=tag + "-processing",
                                       TRANSACTIONAL_ID=tag + "-processing-1"),
            "notification_service": dict(common, KAFKA_GROUP_ID=tag + "-notification",
                                         NOTIFICATION_LOG_FILE=self.log_file),
        }
        self.svc = {}
        for name in ("notification_service", "processing_service", "order_service"):
            self.start(name)
        self.load = None

    def start(self, name, port=None):
        """(Re)start one service (on 'port' when given) and wait until it is ready."""
        svc = self.start_service(name, self.env[name], port=port)
        svc.wait_ready(120)
        self.svc[name] = svc
        return svc

    def start_load(self):
        self.load = accounting.Load(self.svc["order_service"].port, rate=RATE,
                                    duration=300, retry_every=RETRY_EVERY).start()
        return self.load

    def wait_flowing(self, since_ns, what):
        """Until FLOWING orders intended after since_ns were accepted and
        have their notification line: the whole pipeline works (again)."""
        lines = accounting.Lines(self.log_file)

        def flowing():
            ids = self.load.answered_since(since_ns)
            if len(ids) < FLOWING:
                return False
            lines.refresh()
            return sum(1 for i in ids if i in lines.by_order) >= FLOWING
        pipeline.wait_until(flowing, 240, f"{FLOWING} orders accepted and notified {what}",
                            interval=0.5)

    def finish(self):
        """Stop the load, wait for the pipeline to finish what it accepted,
        print and return the accounting."""
        outcomes = self.load.stop()
        print(self.load.summary())
        acc = accounting.reconcile(outcomes, self.bootstrap, self.notifications,
                                   self.log_file, timeout=240)
        print(acc.report())
        return acc

    def stop_all(self):
        for name in ("order_service", "processing_service", "notification_service"):
            svc = self.svc.get(name)
            if svc and svc.proc.poll() is None:
                svc.stop()
