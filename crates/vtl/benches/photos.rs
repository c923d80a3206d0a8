//! Renders the developer guide's photo-album transformation over 100 photos:
//! the template is parsed once, as the data plane does at deploy time, and
//! rendered per iteration, as per request.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vtl::{RenderInput, Template};

const TEMPLATE: &str = r#"#set($inputRoot = $input.path('$'))
{
  "photos": [
#foreach($elem in $inputRoot.photos.photo)
    {
      "id": "$elem.id",
      "photographedBy": "$elem.photographer_first_name $elem.photographer_last_name",
      "title": "$util.escapeJavaScript($elem.title)",
      "ispublic": $elem.ispublic,
      "isfriend": $elem.isfriend,
      "isfamily": $elem.isfamily
    }#if($foreach.hasNext),#end
#end
  ]
}"#;

fn photos_body(n: usize) -> String {
    let photos: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": format!("{:011}", 12345678901u64 + i as u64),
                "owner": "23456789@A12",
                "photographer_first_name": "Saanvi",
                "photographer_last_name": "Sarkar",
                "secret": "abc123d456",
                "server": "1234",
                "farm": i % 5,
                "title": format!("Sample photo {i}"),
                "ispublic": true,
                "isfriend": false,
                "isfamily": i % 2 == 0
            })
        })
        .collect();
    serde_json::json!({"photos": {"page": 1, "pages": "1234", "perpage": n,
                                  "total": "123398", "photo": photos}})
    .to_string()
}

fn bench(c: &mut Criterion) {
    let template = Template::parse(TEMPLATE).expect("the photos template parses");
    let input = RenderInput {
        body: photos_body(100),
        ..Default::default()
    };
    let out = template.render(&input).expect("renders");
    assert!(out.body.contains("Sample photo 99"));
    let mut group = c.benchmark_group("photos");
    group.throughput(Throughput::Bytes(input.body.len() as u64));
    group.bench_function("render_100_items", |b| {
        b.iter(|| template.render(std::hint::black_box(&input)))
    });
    group.bench_function("parse", |b| {
        b.iter(|| Template::parse(std::hint::black_box(TEMPLATE)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
