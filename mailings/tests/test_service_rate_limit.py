"""The site-wide rate limit shared by two real django-q2 clusters (run by
.ci/run on PostgreSQL and Redis): with MAILINGS_RATE_PER_SECOND=20, a run of
600 recipients sent by 2 x 2 workers goes out at 20 messages per second, within
15 %, and every client gets exactly one message."""

from collections import Counter

import pytest
from django_q.status import Stat

from mailings import engine
from mailings.models import Attempt
from mailings.tests.test_service_clusters import (  # noqa: F401 - fixtures
    big_mailing,
    clusters,
    finished,
    run_of,
    services,
    sink,
    successes_per_client,
    wait_for,
)

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RATE = 20
RECIPIENTS = 600


def test_two_clusters_share_a_limit_of_20_messages_per_second(services, sink, clusters):  # noqa: F811
    mailing = big_mailing(RECIPIENTS)
    limit = {"MAILINGS_RATE_PER_SECOND": str(RATE)}
    clusters.start("cluster-a", **limit)
    clusters.start("cluster-b", **limit)
    wait_for(lambda: len(Stat.get_all(broker=services)) >= 2, 60, clusters, "both clusters to start")

    engine.replan_mailing(mailing)

    wait_for(lambda: finished(mailing), 120, clusters, "the run to finish")
    run = run_of(mailing)
    assert (run.sent_count, run.failed_count) == (RECIPIENTS, 0)
    assert set(successes_per_client(run).values()) == {1}
    assert set(Counter(sink.handler.recipients).values()) == {1}
    times = sorted(Attempt.objects.filter(run=run).values_list("attempted_at", flat=True))
    achieved = (len(times) - 1) / (times[-1] - times[0]).total_seconds()
    assert RATE * 0.85 <= achieved <= RATE * 1.15, f"{achieved:.1f} messages per second"
    nodes = {s.split(":")[0] for s in Attempt.objects.filter(run=run).values_list("sent_by", flat=True)}
    assert nodes == {"cluster-a", "cluster-b"}
