"""The baseline of the API benchmark: the list-50-alarms endpoint as the original plan would have written it
(FastAPI + asyncpg + PyJWT, RS256 verification against the same public key, the same SQL on the same
database). Started by `ApiBench` under uvicorn; never part of the product."""
import json
import os

import asyncpg
import jwt
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import Response

app = FastAPI()
PUBLIC_KEY = open(os.environ["JWT_PUBLIC_KEY_FILE"]).read()
pool = None


@app.on_event("startup")
async def startup():
    global pool
    pool = await asyncpg.create_pool(dsn=os.environ["DATABASE_DSN"], min_size=4, max_size=16)


@app.get("/api/alarms")
async def list_alarms(limit: int = 50, authorization: str = Header(None)):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401)
    try:
        claims = jwt.decode(authorization[7:], PUBLIC_KEY, algorithms=["RS256"], audience="stam-operators", issuer="stam")
    except jwt.PyJWTError:
        raise HTTPException(status_code=401)
    if claims.get("role") not in ("operator", "supervisor", "admin"):
        raise HTTPException(status_code=403)
    rows = await pool.fetch(
        "SELECT id, site_id, panel_id, panel_event_id, kind, priority, state, title, zone_number, partition_number,"
        " assignee_id, raised_at, acknowledged_at, taken_at, closed_at, version FROM alarms"
        " ORDER BY raised_at, id LIMIT $1", min(max(limit, 1), 500) + 1)
    items = []
    for row in rows[:limit]:
        item = {}
        for key, value in row.items():
            if value is None or isinstance(value, (int, str)):
                item[key] = value
            elif hasattr(value, "isoformat"):
                item[key] = value.isoformat()
            else:
                item[key] = str(value)
        items.append(item)
    body = json.dumps({"items": items, "next_cursor": None if len(rows) <= limit else "more"})
    return Response(content=body, media_type="application/json")
