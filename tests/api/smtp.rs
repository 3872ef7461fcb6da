//! A real SMTP listener inside the test process (the `mailin` protocol state machine over a
//! TCP socket), so lettre really speaks SMTP in tests.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin::{Action, Handler, Response, SessionBuilder};

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub data: String,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Every recipient is refused with 550, as a misconfigured relay would.
    RejectRecipients,
}

pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    attempts: Arc<Mutex<usize>>,
}

impl SmtpServer {
    pub fn start(mode: Mode) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP listener");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(0));
        let (r, a) = (received.clone(), attempts.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, a) = (r.clone(), a.clone());
                std::thread::spawn(move || serve(stream, mode, r, a));
            }
        });
        SmtpServer {
            port,
            received,
            attempts,
        }
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// Transactions the server refused.
    pub fn refused(&self) -> usize {
        *self.attempts.lock().unwrap()
    }

    /// Waits until at least `n` messages arrived (or the timeout passes) and returns them all.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > timeout {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

struct Collector {
    mode: Mode,
    to: Vec<String>,
    data: Vec<u8>,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refused: Arc<Mutex<usize>>,
}

impl Handler for Collector {
    fn rcpt(&mut self, to: &str) -> Response {
        if self.mode == Mode::RejectRecipients {
            *self.refused.lock().unwrap() += 1;
            return mailin::response::NO_MAILBOX;
        }
        self.to.push(to.to_string());
        mailin::response::OK
    }

    fn data_start(&mut self, _: &str, _: &str, _: bool, _: &[String]) -> Response {
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received.lock().unwrap().push(ReceivedMail {
            to: std::mem::take(&mut self.to),
            data: String::from_utf8_lossy(&self.data).into_owned(),
        });
        mailin::response::OK
    }
}

fn serve(
    stream: TcpStream,
    mode: Mode,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    refused: Arc<Mutex<usize>>,
) {
    let peer: IpAddr = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or([127, 0, 0, 1].into());
    let handler = Collector {
        mode,
        to: Vec::new(),
        data: Vec::new(),
        received,
        refused,
    };
    let mut session = SessionBuilder::new("probity-test-smtp").build(peer, handler);
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::Reply => {
                if response.write_to(&mut writer).is_err() {
                    return;
                }
            }
            Action::Close => {
                let _ = response.write_to(&mut writer);
                let _ = writer.flush();
                return;
            }
            Action::NoReply | Action::UpgradeTls => {}
        }
    }
}
