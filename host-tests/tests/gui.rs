//! Opens every plugin's editor from its built `.clap` bundle, embedded in an X11 window on the
//! virtual display `cargo xtask test` starts (Xvfb), takes a screenshot and checks that the editor
//! really rendered: not blank, many colours, text drawn. Screenshots are written to
//! `screenshots/<bundle>.png` beside the bundle folder for people to look at.

use host_tests::{plugins, Instance};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, ImageFormat, WindowClass};

#[test]
fn editors_render() {
    let (conn, screen_index) =
        x11rb::connect(None).expect("an X display (cargo xtask test starts Xvfb)");
    let screen = &conn.setup().roots[screen_index];
    for config in plugins() {
        let mut plugin = Instance::load(&config);
        plugin.activate(48_000.0, 512);
        assert!(
            plugin.gui_can_resize(),
            "{}: the editor is resizable",
            config.bundle
        );

        let window = conn.generate_id().unwrap();
        conn.create_window(
            screen.root_depth,
            window,
            screen.root,
            0,
            0,
            1000,
            700,
            0,
            WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            &CreateWindowAux::new().background_pixel(screen.black_pixel),
        )
        .unwrap();
        conn.map_window(window).unwrap();
        conn.flush().unwrap();

        // SAFETY: the window stays alive until after close_gui below.
        let size = unsafe { plugin.open_gui(window) };
        assert!(
            size.width >= 400 && size.height >= 300,
            "{}: editor size {size:?}",
            config.bundle
        );

        // Let the editor draw a few frames while the host keeps processing, as a DAW would.
        let signal = host_tests::signals::stereo_noise(4_800, -3.0);
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(2500) {
            plugin.process(&signal, &[512], &[]);
            plugin.pump_main_thread();
            std::thread::sleep(Duration::from_millis(30));
        }

        let (width, height) = (size.width as u16, size.height as u16);
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, screen.root, 0, 0, width, height, !0)
            .unwrap()
            .reply()
            .expect("screenshot");
        let rgb: Vec<u8> = image
            .data
            .chunks_exact(4)
            .flat_map(|bgrx| [bgrx[2], bgrx[1], bgrx[0]])
            .collect();
        let path = host_tests::bundle_dir()
            .join("../screenshots")
            .join(format!("{}.png", config.bundle));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut encoder = png::Encoder::new(file, width as u32, height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&rgb)
            .unwrap();

        // As a DAW does: destroy the editor, let it finish closing (nice-plug closes its window on
        // its own thread), and only then destroy the parent window.
        plugin.close_gui();
        let closing = Instant::now();
        while closing.elapsed() < Duration::from_millis(500) {
            plugin.pump_main_thread();
            std::thread::sleep(Duration::from_millis(20));
        }
        conn.destroy_window(window).unwrap();
        conn.flush().unwrap();

        let pixels: Vec<[u8; 3]> = rgb.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
        let mut colours: Vec<[u8; 3]> = pixels.clone();
        colours.sort_unstable();
        colours.dedup();
        let background = most_common(&pixels);
        let not_background =
            pixels.iter().filter(|p| **p != background).count() as f64 / pixels.len() as f64;
        // Text in the Lathe theme is light on dark: count bright, near-grey pixels.
        let bright = pixels
            .iter()
            .filter(|p| {
                p.iter().all(|&c| c > 170) && p.iter().max().unwrap() - p.iter().min().unwrap() < 40
            })
            .count();
        let label = format!("{} ({})", config.bundle, path.display());
        assert!(
            background != [0, 0, 0],
            "{label}: the editor is black (did not render)"
        );
        assert!(
            colours.len() > 40,
            "{label}: only {} colours",
            colours.len()
        );
        assert!(
            not_background > 0.05,
            "{label}: {:.1}% drawn",
            not_background * 100.0
        );
        assert!(
            bright > 300,
            "{label}: no text drawn ({bright} bright pixels)"
        );
    }
}

fn most_common(pixels: &[[u8; 3]]) -> [u8; 3] {
    let mut counts = std::collections::HashMap::new();
    for p in pixels {
        *counts.entry(*p).or_insert(0usize) += 1;
    }
    counts.into_iter().max_by_key(|&(_, n)| n).unwrap().0
}
