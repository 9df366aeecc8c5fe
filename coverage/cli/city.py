"""``station-coverage city SCENARIO.toml``: every district of a city in one run.

One road network for the whole area, every district assessed with cross-boundary
service (a station serves wherever it arrives first), districts spread over Dask
workers. Writes ``summary.json``, ``districts.csv``/``districts.geojson``,
``stations.csv``, ``n_minus_1.csv``, ``map.html`` (districts shaded by coverage,
click-through to ``districts/<code>/``) and ``report.html`` (districts ranked by
gap to the standard). With a ``[site]`` table it also sites new stations
(:mod:`coverage.city.siting`, per district with the neighbours' stations fixed by
default) and writes ``site/``. See :mod:`coverage.city.scenario` for the file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from coverage.cli.common import number, output_folder
from coverage.errors import InputError

__all__ = ["CityRun", "add_dask_args", "register"]


def add_dask_args(p: argparse.ArgumentParser) -> None:
    """--workers, --scheduler, --scheduler-timeout-s (override the scenario's [dask])."""
    g = p.add_argument_group("dask")
    g.add_argument("--workers", type=number(int, low=1, high=1024), default=None,
                   help="1 = serial in this process (the reference run); N >= 2 = a LocalCluster of N "
                   "workers (default: [dask] workers, else one per core)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    g.add_argument("--scheduler-timeout-s", type=number(low=0, low_open=True, high=3600, unit="s"), default=None,
                   help="seconds to wait for the scheduler (default 10)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``city`` subcommand."""
    p = sub.add_parser(
        "city", help="assess every district of a city on one network (cross-boundary, Dask)",
        description="Assess every district of a city on one road network with cross-boundary "
        "service, on a Dask LocalCluster (or --scheduler). Ranks districts by gap to the "
        "standard and stations by coverage lost when closed (N-1).",
    )
    p.add_argument("scenario", type=Path, help="city scenario TOML file")
    p.add_argument("--out", type=output_folder, default=None, help="output folder (default: the file's out)")
    add_dask_args(p)
    p.set_defaults(run=run)


class CityRun:
    """The set-up shared by ``city`` and ``sweep``: scenario, districts, runner, steps."""

    def __init__(self, args: argparse.Namespace, command: str) -> None:
        from coverage.city.scenario import load_city_scenario
        from coverage.outputs.write import check_outputs

        self.scenario = load_city_scenario(args.scenario)
        out = args.out or self.scenario.out
        if out is None:
            raise InputError("no output folder.", source=args.scenario,
                             fix="give --out DIR or set out = 'DIR' in the scenario.")
        inputs = [args.scenario, self.scenario.data["districts"], self.scenario.data["osm"]]
        if self.scenario.data["stations"] != "generated":
            inputs.append(self.scenario.data["stations"])
        self.out = check_outputs(out, inputs)
        self.command = command
        self.tty = sys.stderr.isatty()
        self.start = time.perf_counter()
        dask = self.scenario.dask
        self.scheduler = args.scheduler or dask["scheduler"]
        self.workers = args.workers if args.workers is not None else dask["workers"]
        self.timeout_s = args.scheduler_timeout_s or dask["timeout_s"]

    def step(self, text: str) -> None:
        """One line per step on stderr."""
        print(f"{self.command}: {text} ({time.perf_counter() - self.start:.1f} s)",
              file=sys.stderr, flush=True)

    def open(self):
        """Districts, runner, network and stations, in that order (the scheduler is
        checked before any heavy work)."""
        from coverage.city.runner import open_runner

        sc = self.scenario
        self.step("reading districts")
        districts = sc.read_districts()
        self.step("starting Dask" if self.scheduler or self.workers is None or self.workers > 1
                  else "serial run")
        runner = open_runner(workers=self.workers, scheduler=self.scheduler,
                             timeout_s=self.timeout_s)
        self.step(f"running on {runner.description}")
        return districts, runner

    def network(self, districts, travel_model=None):
        sc = self.scenario
        self.step("building the road network" + (" (GENERATED city)" if sc.generated else ""))
        network = sc.builder(districts, progress=self.tty)(travel_model or sc.travel_model())
        self.step(f"road network: {network.graph.number_of_nodes():,} nodes")
        return network

    def stations(self, network, districts):
        sc = self.scenario
        if sc.data["stations"] == "generated":
            from coverage.generated_city import generated_city_stations

            return generated_city_stations(network, districts=districts,
                                           seed=sc.data["generated_seed"])
        import geopandas as gpd

        from coverage.layers import read_stations

        area = gpd.GeoSeries([network.study_area], crs=network.crs).to_crs(4326).iloc[0]
        return read_stations(sc.data["stations"], coord_system=sc.data["coord_system"],
                             study_area=area)


def run(args: argparse.Namespace) -> int:
    """Run the city assessment and write its outputs."""
    from coverage.city.assess import assess_city, n_minus_1
    from coverage.city.write import write_city
    from coverage.outputs.files import run_folder

    job = CityRun(args, "city")
    sc = job.scenario
    districts, runner = job.open()
    # The whole run goes into a temporary twin of the output folder, swapped in at the end;
    # each district task writes its own outputs into it (districts/<code>/) where it runs.
    with runner, run_folder(job.out) as tmp:
        network = job.network(districts)
        stations = job.stations(network, districts)
        job.step(f"assessing {len(districts)} districts, {len(stations)} stations"
                 + (" and writing their outputs" if sc.output["district_outputs"] else ""))
        city = assess_city(network, stations, districts, standard=sc.assess["standard"],
                           step_m=float(sc.assess["step_m"]), runner=runner,
                           allow_overlaps=sc.data["allow_overlaps"],
                           district_dir=tmp / "districts" if sc.output["district_outputs"] else None,
                           tiles=sc.output["tiles"])
        critical = n_minus_1(city)
        siting = None
        if sc.site is not None:
            siting = _site(job, network, stations, districts, city, runner)
        job.step("writing outputs")
        write_city(city, tmp, n_minus_1=critical, tiles=sc.output["tiles"])
        if siting is not None:
            _write_siting(siting, tmp / "site")
    m = city.metrics
    if sc.generated:
        print("GENERATED road network (tiled from the real Yuzhong extract): not real roads.")
    print(f"{city.standard.name}: {m['coverage_share']:.1%} of the city's demand reached within "
          f"{city.standard.travel_threshold_s:.0f} s; first-due p90 {m['first_due_p90_s']:.0f} s; "
          f"{m['served_from_outside_share']:.1%} first served from another district")
    worst = city.districts.iloc[0]
    print(f"largest gap: {worst['name']} ({worst['coverage_share']:.1%} covered, "
          f"{worst['gap_to_standard_pp']:.1f} pp short); most critical station: "
          f"{critical.iloc[0]['name']} ({critical.iloc[0]['coverage_lost_pp']:.2f} pp of the city)")
    for line in city.events:
        print(f"note: {line}")
    for line in city.check.gaps:
        print(f"note: district layer gap of {line['area_km2']:.3f} km² between "
              f"{', '.join(line['neighbours'])}")
    if siting is not None:
        a = siting.after.metrics
        print(f"siting ({siting.mode}, {sc.site['model']}): {len(siting.new_sites)} new sites; "
              f"city coverage {m['coverage_share']:.1%} -> {a['coverage_share']:.1%}; statuses "
              + ", ".join(f"{k} {v}" for k, v in siting.models["status"].value_counts().items()))
        from coverage.city.siting import unsolved_notes

        names = dict(zip(districts["code"].astype(str), districts["name"], strict=True))
        for line in unsolved_notes(siting.models, names):
            print(f"note: siting {line}")
    print(f"outputs in {job.out}/: summary.json, districts.csv, districts.geojson, stations.csv, "
          "n_minus_1.csv, map.html, report.html" + (", districts/" if sc.output["district_outputs"]
                                                    else ""))
    return 0


def _site(job: CityRun, network, stations, districts, city, runner):
    from coverage.city.siting import site_city
    from coverage.optimise import SolveOptions

    sc = job.scenario
    site = sc.site
    if sc.data["candidates"] == "generated":
        from coverage.generated_city import generated_city_candidates

        cands = generated_city_candidates(network, seed=sc.data["generated_seed"])
    else:
        from coverage.layers import read_points

        cands = read_points(sc.data["candidates"], coord_system=sc.data["coord_system"])
    job.step(f"siting ({site['mode']}, {site['model']}, p = {site['p']})")
    return site_city(network, stations, districts, cands, p=site["p"], model=site["model"],
                     mode=site["mode"], standard=sc.assess["standard"],
                     new_type=site["new_type"], small_station_rules=site["small_station_rules"],
                     options=SolveOptions(time_limit=site["time_limit_s"]), runner=runner,
                     index=city.index)


def _write_siting(siting, out: Path) -> None:
    from coverage.outputs.files import write_geojson, write_json
    from coverage.outputs.layers import write_csv

    out.mkdir(parents=True, exist_ok=True)
    write_csv(siting.models, out / "models.csv")
    write_geojson(siting.new_sites.to_crs(4326), out / "new_sites.geojson")
    write_csv(siting.after.districts, out / "districts_after.csv")
    write_json({"mode": siting.mode, "models": siting.models.to_dict(orient="records"),
                "after": siting.after.summary()}, out / "summary.json")
