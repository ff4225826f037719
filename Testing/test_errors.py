"""The one place that makes every message a single line."""
from MedRestoreLib.errors import library_reason, one_line


def test_one_line_joins_lines_and_cuts_very_long_messages():
    assert one_line("a name\nwith a break  and\tblanks") == "a name with a break and blanks"
    assert len(one_line("x" * 1000)) == 500


def test_library_reason_keeps_the_telling_part_of_an_itk_error():
    itk = ('Exception thrown in SimpleITK ImageFileReader_Execute: /tmp/build/itkNrrdImageIO.cxx:935:\n'
           'ITK ERROR: NrrdImageIO(0x55d0): Read: Error reading t.nrrd:\n'
           '[nrrd] _nrrdEncodingGzip_read: expected 48000 bytes but received 23805\n')
    assert library_reason(RuntimeError(itk)) == "expected 48000 bytes but received 23805"
    assert library_reason(RuntimeError('sitk::ERROR: The file "x" does not exist.')) == 'The file "x" does not exist.'
    assert library_reason(RuntimeError("")) == "RuntimeError"
