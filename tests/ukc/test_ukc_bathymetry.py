"""Bathymetry loading: sign and datum from CF metadata, refusal of ambiguous grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from twin.bathymetry import (
    AmbiguousBathymetryError,
    depth_cd_from_msl,
    depth_msl_from_cd,
    level_cd_from_msl,
    load_bathymetry,
)

LAT = np.array([21.2, 21.1, 21.0])  # descending on purpose, as GDAL writes north-up rasters
LON = np.array([110.40, 110.45, 110.50, 110.55])
VALUES = np.array([[-5.0, -10.0, -20.0, 3.0],
                   [-23.6, -25.0, -30.0, -1.0],
                   [-12.0, -14.0, -16.0, -18.0]])


def _write(path: Path, name: str, values: np.ndarray, attrs: dict[str, str],
           file_attrs: dict[str, str] | None = None) -> Path:
    ds = xr.Dataset({name: (("lat", "lon"), values, attrs)},
                    coords={"lat": ("lat", LAT, {"units": "degrees_north"}),
                            "lon": ("lon", LON, {"units": "degrees_east"})},
                    attrs=file_attrs or {})
    ds.to_netcdf(path)
    return path


def test_gebco_style_elevation_on_msl_becomes_depth_below_cd(tmp_path: Path) -> None:
    # GEBCO: 'elevation', standard_name height_above_mean_sea_level, negative below sea level.
    # depth_CD = -elev_MSL - Z0 (reference/ukc.md section 6); Z0 = 2.20 m at Zhanjiang
    f = _write(tmp_path / "gebco.nc", "elevation", VALUES,
               {"standard_name": "height_above_mean_sea_level", "units": "m"})
    depth = load_bathymetry(f, msl_above_cd_m=2.20)
    assert depth.dims == ("lat", "lon")
    assert depth.lat.values.tolist() == [21.0, 21.1, 21.2]  # sorted ascending
    row_21_1 = depth.sel(lat=21.1).values
    np.testing.assert_allclose(row_21_1, [21.4, 22.8, 27.8, -1.2])
    assert depth.attrs["datum"] == "chart datum" and depth.attrs["positive"] == "down"


def test_depth_positive_down_on_chart_datum_is_taken_as_is(tmp_path: Path) -> None:
    f = _write(tmp_path / "cd.nc", "depth", -VALUES,
               {"positive": "down", "units": "m", "datum": "chart datum"})
    depth = load_bathymetry(f)
    np.testing.assert_allclose(depth.sel(lat=21.1).values, [23.6, 25.0, 30.0, 1.0])


def test_depth_on_msl_without_z0_is_refused(tmp_path: Path) -> None:
    f = _write(tmp_path / "msl.nc", "depth", -VALUES,
               {"positive": "down", "units": "m"}, {"vertical_datum": "MSL"})
    with pytest.raises(AmbiguousBathymetryError, match="msl_above_cd_m"):
        load_bathymetry(f)
    np.testing.assert_allclose(load_bathymetry(f, msl_above_cd_m=2.2).sel(lat=21.0).values,
                               [9.8, 11.8, 13.8, 15.8])


def test_grid_without_sign_is_refused_not_guessed(tmp_path: Path) -> None:
    f = _write(tmp_path / "z.nc", "z", VALUES, {"units": "m", "datum": "chart datum"})
    with pytest.raises(AmbiguousBathymetryError, match="positive"):
        load_bathymetry(f)
    # the caller may state it
    assert float(load_bathymetry(f, positive="up").sel(lat=21.0, lon=110.4)) == 12.0


def test_contradictory_sign_is_refused(tmp_path: Path) -> None:
    f = _write(tmp_path / "bad.nc", "elevation", VALUES,
               {"standard_name": "height_above_mean_sea_level", "positive": "down"})
    with pytest.raises(AmbiguousBathymetryError, match="contradictory"):
        load_bathymetry(f, msl_above_cd_m=2.2)
    g = _write(tmp_path / "cd.nc", "depth", -VALUES, {"positive": "down", "datum": "LAT"})
    with pytest.raises(AmbiguousBathymetryError, match="contradictory"):
        load_bathymetry(g, positive="up")


def test_grid_without_datum_is_refused(tmp_path: Path) -> None:
    f = _write(tmp_path / "nodatum.nc", "depth", -VALUES, {"positive": "down"})
    with pytest.raises(AmbiguousBathymetryError, match="datum"):
        load_bathymetry(f)
    assert load_bathymetry(f, datum="chart datum").shape == (3, 4)


def test_projected_grid_needs_and_keeps_its_crs(tmp_path: Path) -> None:
    x = 800_000.0 + 200.0 * np.arange(4)
    y = 2_340_000.0 + 200.0 * np.arange(3)
    depth = xr.DataArray(np.full((3, 4), 15.0), dims=("y", "x"),
                         attrs={"positive": "down", "datum": "chart datum",
                                "grid_mapping": "crs"})
    ds = xr.Dataset({"depth": depth, "crs": xr.DataArray(0, attrs={"epsg_code": "EPSG:32649"})},
                    coords={"x": ("x", x, {"standard_name": "projection_x_coordinate"}),
                            "y": ("y", y, {"standard_name": "projection_y_coordinate"})})
    ds.to_netcdf(tmp_path / "utm.nc")
    out = load_bathymetry(tmp_path / "utm.nc", variable="depth")
    assert out.dims == ("y", "x")
    assert "UTM zone 49N" in out.attrs["crs_wkt"]
    ds["depth"].attrs.pop("grid_mapping")
    ds.to_netcdf(tmp_path / "nocrs.nc")
    with pytest.raises(AmbiguousBathymetryError, match="grid_mapping"):
        load_bathymetry(tmp_path / "nocrs.nc", variable="depth")


def test_geotiff_via_pillow_with_caller_stated_sign(tmp_path: Path) -> None:
    pil = pytest.importorskip("PIL.Image")
    from PIL import TiffImagePlugin

    img = pil.fromarray(VALUES.astype(np.float32), mode="F")
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[33550] = (0.05, 0.1, 0.0)           # pixel scale: 0.05 deg lon, 0.1 deg lat
    ifd.tagtype[33550] = 12
    ifd[33922] = (0.0, 0.0, 0.0, 110.375, 21.25, 0.0)  # top-left corner of pixel (0, 0)
    ifd.tagtype[33922] = 12
    ifd[34735] = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)
    ifd.tagtype[34735] = 3
    img.save(tmp_path / "g.tif", tiffinfo=ifd)
    with pytest.raises(AmbiguousBathymetryError, match="positive"):
        load_bathymetry(tmp_path / "g.tif")
    depth = load_bathymetry(tmp_path / "g.tif", positive="up", datum="MSL", msl_above_cd_m=2.2)
    np.testing.assert_allclose(depth.lat.values, LAT[::-1])  # cell centres
    np.testing.assert_allclose(depth.lon.values, LON)
    assert float(depth.sel(lat=21.1, lon=110.45, method="nearest")) == pytest.approx(22.8)


def test_datum_conversions_round_trip() -> None:
    assert float(depth_cd_from_msl(25.0, 2.2)) == pytest.approx(22.8)
    assert float(depth_msl_from_cd(22.8, 2.2)) == pytest.approx(25.0)
    assert float(level_cd_from_msl(-0.5, 2.2)) == pytest.approx(1.7)
