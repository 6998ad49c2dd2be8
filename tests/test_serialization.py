"""minigrad.save / minigrad.load: exact round trips, atomic writes, no pickle ever."""

import os
import pickle
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, serialization
from minigrad.serialization import load, save


def _mark(path):
    """Creates ``path``: what a malicious pickle would run when unpickled."""
    with open(path, "w") as f:
        f.write("code ran")
    return 0


class Trap:
    """Unpickling this object calls ``_mark`` (a stand-in for arbitrary code)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (_mark, (self.path,))


def tricky_state():
    specials = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-310, 1 / 3, np.pi]
    return {
        "0.weight": np.random.default_rng(0).standard_normal((3, 4)),
        "0.bias": np.random.default_rng(1).standard_normal(4).astype(np.float32),
        "specials64": np.array(specials, dtype=np.float64),
        "specials32": np.array(specials + [1e-45], dtype=np.float32),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "steps": np.array([1, 2], dtype=np.int64),
        "mask": np.array([True, False]),
        "file": np.ones(1),  # names np.savez would trip over
        "allow_pickle": np.ones(2),
        "a/b": np.ones(3),
    }


def files_in(directory):
    return sorted(os.listdir(directory))


# ---------------------------------------------------------------- round trips


def test_round_trip_is_bit_for_bit(tmp_path):
    state = tricky_state()
    path = tmp_path / "state.npz"
    save(state, path)
    back = load(path)
    assert list(back) == list(state)  # the order is kept too
    for name, array in state.items():
        assert back[name].dtype == array.dtype, name
        assert back[name].shape == array.shape, name
        assert back[name].tobytes() == np.ascontiguousarray(array).tobytes(), name
    assert files_in(tmp_path) == ["state.npz"]


def test_the_file_is_a_standard_npz_and_the_name_is_kept(tmp_path):
    path = tmp_path / "weights.bin"  # no .npz appended
    save({"w": np.arange(3.0)}, str(path))
    with np.load(path, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["w"], np.arange(3.0))
    assert files_in(tmp_path) == ["weights.bin"]


def test_tensors_and_model_state_dicts(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh(), nn.Linear(3, 1, seed=1, dtype=np.float32))
    save(model.state_dict(), tmp_path / "model.npz")
    other = nn.Sequential(nn.Linear(2, 3, seed=5), nn.Tanh(), nn.Linear(3, 1, seed=6, dtype=np.float32))
    other.load_state_dict(load(tmp_path / "model.npz"))
    for (name, a), (_, b) in zip(model.named_parameters(), other.named_parameters()):
        assert a.dtype == b.dtype and a.data.tobytes() == b.data.tobytes(), name
    save({"t": mg.Tensor([1.0, 2.0], dtype=np.float32)}, tmp_path / "t.npz")
    back = load(tmp_path / "t.npz")["t"]
    assert back.dtype == np.float32 and back.tolist() == [1.0, 2.0]


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "s.npz"
    save({"a": np.zeros(2)}, path)
    save({"b": np.ones(3)}, path)
    assert list(load(path)) == ["b"]
    assert files_in(tmp_path) == ["s.npz"]


# ---------------------------------------------------------------- atomic writes


class Boom(Exception):
    pass


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save({"w": np.arange(4.0)}, path)
    original = path.read_bytes()

    def half_write(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise Boom("disk full")

    monkeypatch.setattr(serialization, "_write_npz", half_write)
    with pytest.raises(Boom):
        save({"w": np.zeros(4)}, path)
    assert path.read_bytes() == original
    assert files_in(tmp_path) == ["model.npz"]


def test_failed_fsync_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save({"w": np.arange(4.0)}, path)
    original = path.read_bytes()

    def no_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(OSError, match="I/O error"):
        save({"w": np.zeros(4)}, path)
    assert path.read_bytes() == original
    assert files_in(tmp_path) == ["model.npz"]


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "_write_npz", lambda file, arrays: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Boom):
        save({"w": np.zeros(4)}, tmp_path / "new.npz")
    assert files_in(tmp_path) == []


def test_the_temporary_file_is_in_the_target_directory(tmp_path, monkeypatch):
    """os.replace is atomic only within one file system, so the temporary must sit beside
    the target; the rename is the only step that touches the target."""
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save({"w": np.zeros(2)}, tmp_path / "m.npz")
    [(src, dst)] = renames
    assert os.path.dirname(src) == str(tmp_path) and dst == str(tmp_path / "m.npz")
    assert src != dst


# ---------------------------------------------------------------- refusals on save


def test_save_refuses_object_arrays_and_touches_nothing(tmp_path):
    path = tmp_path / "s.npz"
    save({"w": np.ones(2)}, path)
    original = path.read_bytes()
    with pytest.raises(ValueError, match="'bad' has dtype object"):
        save({"w": np.zeros(2), "bad": np.array([{}, None], dtype=object)}, path)
    with pytest.raises(ValueError, match="'words' has dtype <U"):
        save({"words": np.array(["a", "b"])}, path)
    assert path.read_bytes() == original and files_in(tmp_path) == ["s.npz"]


def test_save_refuses_a_model_and_bad_keys(tmp_path):
    with pytest.raises(TypeError, match=r"model.state_dict\(\)"):
        save(nn.Linear(2, 2), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="non-empty string"):
        save({1: np.ones(2)}, tmp_path / "m.npz")
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------- refusals on load


def test_truncated_files_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "full.npz"
    save(tricky_state(), path)
    blob = path.read_bytes()
    for cut in (0, 10, len(blob) // 2, len(blob) - 10, len(blob) - 1):
        broken = tmp_path / f"cut{cut}.npz"
        broken.write_bytes(blob[:cut])
        with pytest.raises(ValueError, match=f"cannot load '.*cut{cut}.npz'"):
            load(broken)


def test_corrupted_member_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": np.zeros(1000)}, path)
    blob = bytearray(path.read_bytes())
    blob[400] ^= 0xFF  # inside the array's bytes: the zip's CRC check catches it
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="c.npz"):
        load(path)


def test_pickles_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran.txt"
    trap = np.array([Trap(str(marker))], dtype=object)
    cases = {}
    cases["object.npy"] = lambda p: np.save(p, trap, allow_pickle=True)
    cases["object.npz"] = lambda p: np.savez(p, w=np.ones(2), trap=trap)
    cases["plain.pkl"] = lambda p: p.write_bytes(pickle.dumps({"w": Trap(str(marker))}))
    for name, write in cases.items():
        path = tmp_path / name
        write(path)
        assert path.exists()
        with pytest.raises(ValueError, match=f"cannot load '.*{name}'"):
            load(path)
        assert not marker.exists(), f"{name}: unpickling ran code"
    # the trap is real: unpickling the file by hand does run it
    pickle.loads((tmp_path / "plain.pkl").read_bytes())
    assert marker.exists()


def test_other_wrong_files_are_refused(tmp_path):
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    with pytest.raises(ValueError, match="single .npy array"):
        load(single)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt"):
        load(text)
    odd = tmp_path / "odd.npz"
    with zipfile.ZipFile(odd, "w") as z:
        z.writestr("readme.txt", "not an array")
    with pytest.raises(ValueError, match="member 'readme.txt' is not a .npy array"):
        load(odd)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_a_failed_model_load_leaves_the_model_as_it_was(tmp_path):
    small = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh(), nn.Linear(3, 1, seed=1))
    big = nn.Sequential(nn.Linear(2, 4, seed=2), nn.Tanh(), nn.Linear(4, 1, seed=3))
    save(small.state_dict(), tmp_path / "small.npz")
    before = big.state_dict()
    with pytest.raises(ValueError, match="'0.weight' has shape") as info:
        big.load_state_dict(load(tmp_path / "small.npz"))
    assert "'2.weight'" in str(info.value) and "'0.bias'" in str(info.value)
    after = big.state_dict()
    assert all(before[k].tobytes() == after[k].tobytes() for k in before)
    # a corrupt file fails before the model is even touched
    (tmp_path / "bad.npz").write_bytes((tmp_path / "small.npz").read_bytes()[:50])
    with pytest.raises(ValueError, match="bad.npz"):
        big.load_state_dict(load(tmp_path / "bad.npz"))
    assert all(before[k].tobytes() == big.state_dict()[k].tobytes() for k in before)


# ---------------------------------------------------------------- keys that would not survive the file


def test_keys_that_collide_in_the_file_are_refused(tmp_path):
    """Each array is the zip member '<key>.npy', and numpy reads the member 'a.npy' back as
    the key 'a' (or 'a.npy'): with both keys one array would be unreachable."""
    for state in ({"a": np.zeros(2), "a.npy": np.ones(2)}, {"a.npy": np.ones(2), "a": np.zeros(2)}):
        with pytest.raises(ValueError, match=r"the keys 'a' and 'a.npy' collide"):
            save(state, tmp_path / "m.npz")
    assert files_in(tmp_path) == []
    save({"a.npy": np.ones(2)}, tmp_path / "m.npz")  # alone, the name is fine
    np.testing.assert_array_equal(load(tmp_path / "m.npz")["a.npy"], np.ones(2))


def test_a_key_with_a_nul_character_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"NUL character"):
        save({"w\x00eight": np.zeros(2)}, tmp_path / "m.npz")
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------- what the file system keeps


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saving_over_a_file_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "m.npz"
    save({"w": np.zeros(2)}, path)
    for mode in (0o600, 0o640, 0o444):
        os.chmod(path, mode)
        save({"w": np.ones(2)}, path)
        assert (os.stat(path).st_mode & 0o777) == mode
    os.chmod(path, 0o644)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_saving_to_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.npz"
    save({"w": np.zeros(2)}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save({"w": np.ones(2)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(load(target)["w"], np.ones(2))
    assert files_in(tmp_path / "real") == ["model.npz"] and files_in(tmp_path) == ["latest.npz", "real"]
    # a dangling link: the file it names is created
    dangling = tmp_path / "next.npz"
    dangling.symlink_to(tmp_path / "real" / "new.npz")
    save({"w": np.full(2, 7.0)}, dangling)
    assert dangling.is_symlink() and load(tmp_path / "real" / "new.npz")["w"][0] == 7.0


def test_a_full_disk_half_way_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "model.npz"
    save({"w": np.arange(4.0)}, path)
    original = path.read_bytes()
    real_write_array = np.lib.format.write_array
    calls = []

    def disk_fills_up(member, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first array went in, the second does not fit
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_array(member, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", disk_fills_up)
    with pytest.raises(OSError, match="No space left"):
        save({"w": np.zeros(4), "b": np.zeros(1000)}, path)
    assert path.read_bytes() == original
    assert files_in(tmp_path) == ["model.npz"]


def test_models_and_figures_share_one_writer_that_fsyncs_file_and_folder(tmp_path, monkeypatch):
    """Both go through minigrad._atomic.atomic_write: the file is fsynced before the rename
    and the folder after it (POSIX), for a model and for a figure alike."""
    from minigrad import plot

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(
        os,
        "fsync",
        lambda fd: (events.append("fsync folder" if _is_dir_fd(fd) else "fsync file"), real_fsync(fd))[1],
    )
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("rename"), real_replace(a, b))[1])
    save({"w": np.zeros(2)}, tmp_path / "m.npz")
    model_events, events[:] = list(events), []
    fig = plot.pyplot().figure()
    plot.save(fig, tmp_path / "f.png")
    plot.pyplot().close(fig)
    expected = ["fsync file", "rename", "fsync folder"] if os.name == "posix" else ["fsync file", "rename"]
    assert model_events == expected and events == expected


def _is_dir_fd(fd):
    import stat

    return stat.S_ISDIR(os.fstat(fd).st_mode)


# ---------------------------------------------------------------- checkpoints: model and optimizer


def test_checkpoint_keys_and_refusals(tmp_path):
    from minigrad import optim
    from minigrad.serialization import load_checkpoint, save_checkpoint

    model = nn.Linear(2, 3, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / "run.npz"
    save_checkpoint(path, model=model, optimizer=opt)
    assert set(load(path)) == {
        "model.weight",
        "model.bias",
        "optimizer.hyper.lr",
        "optimizer.hyper.momentum",
        "optimizer.hyper.weight_decay",
        "optimizer.hyper.nesterov",
    }
    with pytest.raises(ValueError, match=r"holds the part 'optimizer', which was not passed"):
        load_checkpoint(path, model=model)
    with pytest.raises(ValueError, match=r"holds nothing for \['scheduler'\]"):
        load_checkpoint(path, model=model, optimizer=opt, scheduler=opt)
    with pytest.raises(TypeError, match=r"model= must have a state_dict\(\) method"):
        save_checkpoint(path, model=np.zeros(2))
    with pytest.raises(TypeError, match="at least one part"):
        save_checkpoint(path)


def test_a_failed_checkpoint_load_changes_nothing(tmp_path):
    """The model loads first; when the optimizer then refuses its state (here: an Adam
    state for an SGD), the model is put back as it was."""
    from minigrad import optim
    from minigrad.serialization import load_checkpoint, save_checkpoint

    source = nn.Linear(2, 3, seed=0)
    save_checkpoint(tmp_path / "run.npz", model=source, optimizer=optim.Adam(source.parameters()))
    model = nn.Linear(2, 3, seed=1)
    before = model.state_dict()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="another optimizer"):
        load_checkpoint(tmp_path / "run.npz", model=model, optimizer=opt)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert opt.lr == 0.1
