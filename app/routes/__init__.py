"""Every route of the app, in one list.

GET  /                      playground page                    routes/pages.py
GET  /cnn                   CNN lab page                        routes/pages.py
GET  /g/{id}                a saved graph, read-only for students (?embed=1)  routes/pages.py
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
GET  /api/images            the sample photographs              routes/images.py
GET  /api/images/{name}     one of them as a C×H×W tensor       routes/images.py
POST /api/images            an uploaded PNG/JPEG as a tensor    routes/images.py
POST /api/layers            shapes, parameters, receptive fields of a layer stack  routes/layers.py
POST /api/receptive-field   receptive fields and one output's boxes               routes/layers.py
POST /api/cnn/lenet5        LeNet-5 on a real digit, maps and gradients            routes/cnn.py
GET  /learn                 training, loss surface, differentiation methods  routes/learn.py
GET  /api/datasets          data sets a training run can use    routes/learn.py
POST /api/train             start a training run -> run id      routes/learn.py
GET  /api/train/{id}        a run's status and summary          routes/learn.py
GET  /api/train/{id}/events its progress as Server-Sent Events  routes/learn.py
POST /api/train/{id}/stop   stop a run                          routes/learn.py
POST /api/loss-surface      loss over (w, b) + optimizer paths  routes/learn.py
POST /api/gradcheck         autodiff vs finite differences      routes/learn.py
GET  /api/swell             symbolic vs autodiff sizes          routes/learn.py
GET  /static/...            browser code, styles, vendored libs (mounted in app/main.py)
GET  /docs, /openapi.json   the API reference
"""

from __future__ import annotations

from app.routes import catalog, cnn, evaluate, export, graphs, images, layers, learn, pages

# Routes are matched in this order: the busiest, /api/evaluate, is tried first.
ROUTERS = [
    evaluate.router,
    pages.router,
    catalog.router,
    export.router,
    images.router,
    layers.router,
    cnn.router,
    graphs.router,
    learn.router,
]
