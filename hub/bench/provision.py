"""Sets up a fresh bench database before its hub starts: agencies, rights, route, e-CMS departments."""
from __future__ import annotations

from dataclasses import dataclass

from hub.bench.backends import BackendEnv
from hub.bench.loadgen import SENDER, SERVICE

SINK = "TH/GOV/BENCH/sink"
LARGE_SERVICE = "bench.large/v1"
# Two departments of one ministry for the e-CMS scenario: (code, e-Saraban party, password).
ECMS_DEPARTMENTS = (("0491", "TH/GOV/0491/saraban", "bench-0491"), ("0492", "TH/GOV/0492/saraban", "bench-0492"))
ECMS_MINISTRY = "0490"


@dataclass(frozen=True)
class Provisioned:
    token: str  # the load generator's access token (as the sending agency)


def provision(env: BackendEnv, sink_url: str) -> Provisioned:
    from hub.bootstrap import build_hub
    from hub.config import Settings
    from hub.schemas.routes import RouteIn
    from hub.security.onboarding import onboard
    from hub.security.wiring import security_of

    settings = Settings(data_dir=env.data_dir, database_url=env.database_url, broker_url=env.broker_url,
                        queue_name=env.queue_name)
    hub = build_hub(settings)
    try:
        security = security_of(hub)
        onboard(security, SINK, actor="bench")
        onboard(security, SENDER, actor="bench", rights=[(SERVICE, SINK), (LARGE_SERVICE, SINK)])
        hub.router.add(RouteIn(receiver=SINK, service="*", adapter="http", settings={"url": sink_url},
                               max_attempts=20, backoff_base_seconds=0.2, backoff_max_seconds=2))
        hub.ecms.register_department(ECMS_MINISTRY, ECMS_MINISTRY, "กระทรวงทดสอบ", name_en="Bench ministry")
        for code, party, password in ECMS_DEPARTMENTS:
            hub.ecms.register_department(code, ECMS_MINISTRY, f"กรมทดสอบ {code}", name_en=f"Bench department {code}",
                                         party=party, clearance="001", secret=password)
        parties = [party for _, party, _ in ECMS_DEPARTMENTS]
        for party in parties:  # e-CMS letters flow only with the right (the node checks it)
            onboard(security, party, actor="bench", rights=[("ecms.letter/v1", p) for p in parties if p != party])
        return Provisioned(token=security.client_token(SENDER))
    finally:
        hub.close()
