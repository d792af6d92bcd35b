"""Every route of the app, in one list.

GET  /                      playground page                    routes/pages.py
POST /api/evaluate          forward + backward of a graph       routes/evaluate.py
POST /api/parse             expression -> graph JSON            routes/evaluate.py
GET  /api/ops               the engine's ops                    routes/catalog.py
GET  /api/presets           demo graphs                         routes/catalog.py
GET  /api/presets/{name}    one demo graph                      routes/catalog.py
POST /api/graphs            save a graph -> id, edit token      routes/graphs.py
GET  /api/graphs/{id}       its latest revision (public)        routes/graphs.py
PUT  /api/graphs/{id}       save a new revision (edit token)    routes/graphs.py
DELETE /api/graphs/{id}     it and its revisions (edit token)   routes/graphs.py
GET  /api/graphs/{id}/revisions      every revision, oldest first   routes/graphs.py
GET  /api/graphs/{id}/revisions/{n}  one revision, by number        routes/graphs.py
POST /api/export/pytorch    the graph as a PyTorch program      routes/export.py
GET  /api/export/pytorch    the same, for ?expression=...       routes/export.py
POST /api/export/dot        the graph as Graphviz DOT           routes/export.py
GET  /static/...            browser code, styles, vendored libs (mounted in app/main.py)
GET  /docs, /openapi.json   the API reference
"""

from __future__ import annotations

from app.routes import catalog, evaluate, export, graphs, pages

ROUTERS = [
    pages.router,
    evaluate.router,
    catalog.router,
    export.router,
    graphs.router,
]
